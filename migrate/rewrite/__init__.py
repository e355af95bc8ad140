"""The rewrite pipeline: which files (walk), bytes in and out (source), edits spliced back to
front (edits), and the run over files (engine, pool): scan, classify, splice, verify, write."""
