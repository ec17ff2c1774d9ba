"""One widget per file; each knows nothing of training, only of its own controls."""
