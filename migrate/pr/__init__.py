"""`ecr-ptc pr`: the migration branch and commit, its description, and the forge that opens it."""
