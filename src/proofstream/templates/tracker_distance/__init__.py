"""Template ``tracker-distance``: GPS trackers earn per metre travelled (this file is not copied)."""
