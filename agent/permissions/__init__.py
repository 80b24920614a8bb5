"""Permission rules, bash command analysis, modes and the approver seam."""
