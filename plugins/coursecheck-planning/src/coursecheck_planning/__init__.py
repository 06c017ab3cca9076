"""coursecheck-planning: must-haves from planning documents.

Reads the ``must_haves:`` frontmatter of plan files (``.planning/phases/<phase>/<NN>-<MM>-PLAN.md``)
and declares them to coursecheck through the ``coursecheck_musthaves`` hook. See README.md.
"""

__version__ = "0.1.0"
