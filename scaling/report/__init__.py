"""How results look (layer 5: imports evaluate and below): the book's style and colours, generic
figures (:mod:`.plotting`) and paper-style tables (:mod:`.tables`). A chapter's own figures live
with its study in :mod:`scaling.studies`."""
