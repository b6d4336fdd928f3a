"""Faithfulness metrics (``FaithfulnessMetric`` plugins).

Deletion / Insertion (DAUC, DC, IAUC, IC), AverageDrop (AD, IIC), AverageDropInDeletion (ADD),
MuFidelity, and in the wavelet domain (scoring WCAM's and WAM's wavelet maps): WaveletDeletion,
WaveletInsertion, WaveletFaithfulness, WaveletMuFidelity and ReconstructionDepth.
"""

from xaitk_wcam.impls.faithfulness.average_drop import AverageDrop, AverageDropInDeletion
from xaitk_wcam.impls.faithfulness.deletion_insertion import Deletion, Insertion
from xaitk_wcam.impls.faithfulness.mu_fidelity import MuFidelity
from xaitk_wcam.impls.faithfulness.reconstruction_depth import ReconstructionDepth
from xaitk_wcam.impls.faithfulness.wavelet_deletion_insertion import (
    WaveletDeletion,
    WaveletFaithfulness,
    WaveletInsertion,
)
from xaitk_wcam.impls.faithfulness.wavelet_mu_fidelity import WaveletMuFidelity

__all__ = [
    "AverageDrop",
    "AverageDropInDeletion",
    "Deletion",
    "Insertion",
    "MuFidelity",
    "ReconstructionDepth",
    "WaveletDeletion",
    "WaveletFaithfulness",
    "WaveletInsertion",
    "WaveletMuFidelity",
]
