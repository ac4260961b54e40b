"""The submitter: routes proven tasks through the Router, exactly once, across restarts."""
