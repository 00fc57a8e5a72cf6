"""Tables and figures generated from the results store."""
