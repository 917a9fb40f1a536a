"""Tests of max_patches/: the Max for Live device, the qbdi.client abstraction and their JavaScript."""
