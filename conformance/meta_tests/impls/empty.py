"""An implementation module that defines none of the required names."""
