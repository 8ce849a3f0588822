"""The references a run's closing line compares its validation CC with.

The per-pixel fit and, on the embedded sample (the synthetic Sun of seed 0,
whose noise-free truth is known), the oracle are scored on the validation
examples (:mod:`solar_euv.reference`) and printed beside the model's CC.
"""
__all__ = ["reference_scores", "scores_text"]


def reference_scores(config, data_dir, val_split, scaling):
    """The per-pixel fit (and, on the embedded sample, the oracle) on the validation examples.

    Returns
    -------
    dict
        What ``references.json`` holds (:func:`solar_euv.reference.reference_scores`).
    """
    from solar_euv.reference import reference_scores as score

    seed = 0 if config.data is None else None
    return score(data_dir, val_split, config.passbands, config.image_size,
                 examples=config.val_examples, hmi_limit=scaling.hmi_limit,
                 synthetic_seed=seed)


def scores_text(validation, references, config):
    """``171 CC 0.760 (per-pixel fit 0.800, oracle 0.875, at 128 px 0.820)``, per passband."""
    parts = []
    for band in config.passbands:
        text = f"{band} CC {validation.get(f'{band}_CC', float('nan')):.3f}"
        if references:
            refs = [f"per-pixel fit {references['pixel_fit'][band]:.3f}"]
            if "oracle" in references:
                refs.append(f"oracle {references['oracle'][band]:.3f}, at "
                            f"{config.image_size} px {references['oracle_at_size'][band]:.3f}")
            text += f" ({', '.join(refs)})"
        parts.append(text)
    where = f" on {references['examples']} validation examples" if references else ""
    return ", ".join(parts) + where
