"""Rules of the rollout family."""
