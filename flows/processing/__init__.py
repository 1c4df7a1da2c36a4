"""What the processing flow reads and writes beside the lake: landed rows, chunks, the
embedding cache, the feedback commit, the parse worker pool and the quality gate."""
