"""bbrl_reference: the typed reference implementation of the BBRL core."""
