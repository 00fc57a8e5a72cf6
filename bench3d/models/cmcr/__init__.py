"""CMCR's pretraining modules: the unified codebook, occupancy queries and head, image masking and the
reconstruction decoder (research/methods.md §4, read in Eaphan/CMCR)."""
