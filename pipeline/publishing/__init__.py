"""The publishing lifecycle: plan, take in, publish, settle, release, steer. No SQL lives here.

`pipeline.py` is the composition root (`Pipeline`); its docstring maps the parts. Nothing is
imported here, so the planner can be used without loading the rest.
"""
