"""The benchmark's facts, each written once: domains, datasets, tasks, models, the paper's laws and the
names its tables print. Everything else imports them from here (this module imports nothing)."""

from __future__ import annotations

__all__ = ["DOMAINS", "LANGUAGE_DOMAINS", "PAPER_LAWS", "IC_DATASETS", "IC_SHOTS", "IC_FAMILIES", "IC_MODELS",
           "BB_TASKS", "BB_SHOTS", "SINGLE_TASKS", "PAPER_ROW_NAMES", "RESULT_COLUMNS"]

#: The four domains, in the paper's order (Figure 1, the book's tables).
DOMAINS = ("IC", "NMT", "LM", "BB")
#: The domains of Tables 2 and 3.
LANGUAGE_DOMAINS = ("NMT", "LM", "BB")
#: The paper's four function classes.
PAPER_LAWS = ("M1", "M2", "M3", "M4")

#: Image classification: dataset codes of the CSV (``inet_10``) and their readable names, in the book's order.
IC_DATASETS = {"inet": "ImageNet", "bird": "Birds 200", "c": "CIFAR-100", "cal": "Caltech101"}
#: The few-shot settings of every image-classification dataset.
IC_SHOTS = (5, 10, 25)
#: The three architecture families of Table 1, each as (smaller model, larger model).
IC_FAMILIES = {
    "BiT": ("BiT/50/1", "BiT/101/3"),
    "ViT": ("ViT/S/16", "ViT/B/16"),
    "MiX": ("MiX/B/16", "MiX/L/16"),
}
#: The six architectures in the order of the book's tables and figures.
IC_MODELS = tuple(m for pair in IC_FAMILIES.values() for m in pair)

#: BIG-Bench task codes of the CSV (``('date', '1-shot')``) and their names, in the order of Table 3.
BB_TASKS = {"ling": "linguistic_mappings", "qa": "qa_wikidata", "unit": "unit_conversion",
            "mult": "mult_data_wrangling", "date": "date_understanding"}
#: The few-shot settings of every BIG-Bench task.
BB_SHOTS = (1, 2)
#: The one task of each single-task domain and its readable name.
SINGLE_TASKS = {("NMT", "log_perplexity"): "log-perplexity", ("LM", "val_loss"): "validation loss"}

#: The row names Tables 2 and 3 print, keyed by the CSV's row key (model for NMT and LM, task for BB), in
#: the paper's order.
PAPER_ROW_NAMES = {
    "NMT": {
        "6 Enc, 6 Dec": "6 Enc, 6 Dec Layers",
        "28 Enc, 6 Dec": "28 Enc, 6 Dec Layers",
        "6 Enc, 28 Dec": "6 Enc, 28 Dec Layers",
        "Dec-only": "Decoder-only /LM",
        "TEnc-LSTM": "Transformer Enc /LSTM Dec",
    },
    "LM": {m: m for m in ("1.68e+07", "1.34e+08", "2.62e+08", "4.53e+08", "1.07e+09")},
    "BB": {f"('{code}', '{shot}-shot')": f"{name}: {shot}-shot" for code, name in BB_TASKS.items() for shot in BB_SHOTS},
}

#: The columns of a results frame (one row per curve and law), as every benchmark runner returns them;
#: the parameters of later laws and ``error`` follow.
RESULT_COLUMNS = ("domain", "task", "model", "law", "rmse", "se", "fit_seconds", "converged", "train_loss",
                  "objective", "beta", "c", "eps_inf", "eps0", "alpha", "gamma")
