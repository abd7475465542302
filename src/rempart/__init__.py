"""Rempart: find, prove and take down leaked intimate images and sexual deepfakes.

The package follows the flow: hashing -> matching -> intake -> store -> entry points.
Nothing happens at import time.
"""

__version__ = "0.1.0"
