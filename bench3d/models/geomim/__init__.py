"""GeoMIM's pretraining-only modules (dropped at transfer: only the camera encoder is kept)."""
