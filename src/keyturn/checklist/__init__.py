"""`keyturn checklist`: the production checklist of a rotation, every box checked by evidence.

model: the checklist and its boxes; evidence: what keyturn reads to check them (the journal,
the live instance, files under --path); boxes: one function per box, pure over the evidence.
docs/checklist.md maps each box of the guide's checklist to keyturn's evidence.
"""

from keyturn.checklist.boxes import build_checklist
from keyturn.checklist.model import BOXES, Box, Checklist

__all__ = ["BOXES", "Box", "Checklist", "build_checklist"]
