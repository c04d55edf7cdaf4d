"""Data files shipped inside the package (the demo corpus), read with importlib.resources."""
