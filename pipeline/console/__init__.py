"""The operator console: a local web page over one home folder (`crosspost console`)."""
