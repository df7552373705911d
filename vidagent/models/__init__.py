"""Model backends (detector, segmenter, video propagator, language model) and weight loading."""
