"""Flux2Web: a team studio for FLUX.2 images."""

__version__ = "0.1.0"
