"""The synthetic Sun: SDO-like HMI, AIA, MDI and GONG files with a known ground truth.

One job per module (none imports TensorFlow):

* :mod:`~solar_euv.synthetic.cycle`: the solar cycle and the seeded
  catalogue of active regions;
* :mod:`~solar_euv.synthetic.network`: the mixed-polarity network;
* :mod:`~solar_euv.synthetic.field`: the radial field on an image grid;
* :mod:`~solar_euv.synthetic.inputs` and :mod:`~solar_euv.synthetic.corona`:
  the forward models magnetogram -> AIA intensity per passband;
* :mod:`~solar_euv.synthetic.unpredictable`: what the magnetogram cannot
  predict;
* :mod:`~solar_euv.synthetic.observer`: SDO's position, pointing and
  degradation;
* :mod:`~solar_euv.synthetic.sun`: :class:`~solar_euv.synthetic.sun.SyntheticSun`,
  the truth and the instrument images;
* :mod:`~solar_euv.synthetic.files`: JSOC-style names, headers, FITS writing;
* :mod:`~solar_euv.synthetic.sample`: time grids, samples and the embedded
  default sample;
* :mod:`~solar_euv.synthetic.instruments`: the same Sun seen by SOHO/MDI
  and NSO/GONG.
"""
