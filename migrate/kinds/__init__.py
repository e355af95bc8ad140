"""File kinds: one module each, all with the same names (the `Scanner` protocol in
`registry`), beside the few helpers several kinds share (`ci`, `containers`, `paths`,
`helm_images`, `dockerfile_args`, `ci_login`). `registry` lists the kinds in the order that
decides ties; the walk, the pre-commit `files:` and the docs' list of kinds derive from it."""
