"""Low-dimensional energy-based models whose expectations are exact (torch)."""
