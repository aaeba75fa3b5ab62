"""Risk: the built-in rules of TRD §3.4 and the chain that applies them."""
