"""The training modes and what each implies by default, in a leaf module so that the workflow can
ask without importing the training code: box is the paper's literal loop (a fixed grid, no
refinements), trust re-centres an adaptive grid and refines it, continuous solves no QUBO."""

MODES = ("box", "trust", "continuous")
DEFAULT_TRUST_REFINEMENTS = 6


def refinements_for(mode: str, trust_refinements: int = DEFAULT_TRUST_REFINEMENTS) -> int:
    """Extra re-centred QUBOs per class and iteration: refinements apply to trust mode only."""
    return int(trust_refinements) if mode == "trust" else 0
