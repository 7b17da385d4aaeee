"""GitOps and repository-governance rules (catalog section 3: 3.1 auto-sync, 3.2 branch protection, 3.3 exposure and review)."""
