"""Known-answer evaluation: pointing games that score attribution maps against the ground truth of
:mod:`xaitk_wcam.datasets` (where and at which wavelet scale the class evidence was put).

It sits above the methods it scores (WCAM, WCAMDetector, xaitk's generators) and the data sets it reads;
``benchmarks/known_answer.py`` and ``benchmarks/sample_efficiency.py`` drive it.
"""
