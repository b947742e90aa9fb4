// The platforms' own JavaScript libraries as test references, one JSON request per line.
// {"op":"x","text":...}        -> twitter-text's parseTweet: {"weightedLength", "valid"}
// {"op":"bluesky","text":...}  -> @atproto/api RichText.detectFacets (links and tags; mentions
//                                 need a DID lookup, so they are left out): {"facets":[...]}
// {"op":"validate","input":{repo, collection, rkey, record}}
//                              -> the app.bsky.feed.post record and the createRecord input
//                                 checked against their lexicons: {"record":..., "input":...}
import * as readline from 'node:readline';
import * as api from '@atproto/api';
import twitterText from 'twitter-text';

const MENTION = 'app.bsky.richtext.facet#mention';

function detect(text) {
  const rt = new api.RichText({ text });
  rt.detectFacetsWithoutResolution();
  return (rt.facets ?? [])
    .filter((facet) => facet.features.every((feature) => feature.$type !== MENTION))
    .map((facet) => ({ index: facet.index, features: facet.features }))
    .sort((a, b) => a.index.byteStart - b.index.byteStart);
}

function problem(check) {
  try {
    check();
    return null;
  } catch (error) {
    return String(error.message ?? error);
  }
}

function validate(input) {
  const record = api.AppBskyFeedPost.validateRecord(input.record);
  return {
    record: record.success ? null : String(record.error?.message ?? record.error),
    input: problem(() => api.lexicons.assertValidXrpcInput('com.atproto.repo.createRecord', input)),
  };
}

function answer(request) {
  switch (request.op) {
    case 'x': {
      const parsed = twitterText.parseTweet(request.text);
      return { weightedLength: parsed.weightedLength, valid: parsed.valid };
    }
    case 'bluesky':
      return { facets: detect(request.text) };
    case 'validate':
      return validate(request.input);
    default:
      return { error: `unknown op ${request.op}` };
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let reply;
  try {
    reply = answer(JSON.parse(line));
  } catch (error) {
    reply = { error: String(error.stack ?? error) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
