"""Template ``weather-quality``: weather stations earn per good (in-range, plausible) reading (not copied)."""
