"""Label spaces as data: raw dataset ids, evaluation classes, and the mappings between them."""
