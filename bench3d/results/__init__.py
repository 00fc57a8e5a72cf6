"""Run records and the results store (one JSON file per run, written atomically)."""

from bench3d.results.record import Provenance, RunRecord, ScoreSpec
from bench3d.results.store import ResultsStore, load

__all__ = ["Provenance", "ResultsStore", "RunRecord", "ScoreSpec", "load"]
