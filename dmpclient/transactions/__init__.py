"""transactions package."""
