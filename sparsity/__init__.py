"""sparsity package."""
