"""Faithfulness metrics (``FaithfulnessMetric`` plugins).

Deletion / Insertion (DAUC, DC, IAUC, IC), AverageDrop (AD, IIC), AverageDropInDeletion (ADD),
MuFidelity and the wavelet-domain ReconstructionDepth.
"""

from xaitk_wcam.impls.faithfulness.average_drop import AverageDrop, AverageDropInDeletion
from xaitk_wcam.impls.faithfulness.deletion_insertion import Deletion, Insertion
from xaitk_wcam.impls.faithfulness.mu_fidelity import MuFidelity
from xaitk_wcam.impls.faithfulness.reconstruction_depth import ReconstructionDepth

__all__ = ["AverageDrop", "AverageDropInDeletion", "Deletion", "Insertion", "MuFidelity", "ReconstructionDepth"]
