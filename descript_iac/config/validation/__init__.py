"""Validation of a workspace: one pipeline, its stages in this order, each in a module named
for it. Every stage reports all the problems it finds at their file:line:col.

1. syntax (`syntax.py`): the YAML reads (config/yamlsource.py places its errors), the top level
   is a mapping, the file is a workspace file, its `version:` is one this descript-iac reads.
   Variables (`${VAR}`) are substituted after it (config/interpolate.py).
2. schema (`schema.py`): the shape, against the JSON Schema generated from the models, with
   fastjsonschema; `validate` takes a valid file's verdict from it alone, without pydantic.
3. types (`types.py`): the pydantic models (config/model.py) are built, and their errors are
   said in the user's words.
4. cross-references (`references.py`): within a file, tracks and clips name declared media,
   names and ids are unique, URLs and media names are usable; across files, `moved` blocks
   (`moves.py`), and one definition of each project, `defaults` and `budget` (config/loader.py).
5. lifecycle (`lifecycle.py`): folders, the compositions steps work on, publishing, exports.

`pipeline.py` runs stages 1 to 5 on one file (`check_file`); `config/loader.py` (the models,
for plan) and `config/summary.py` (`validate`, without models) run it on every file and then
check what only the whole workspace can say. The `state:` block is checked across files in
config/statesetting.py.

Stages 4 and 5 read the interpolated data rather than the models: they run on a file whose
types stage failed elsewhere too (every problem in one pass), and `validate` builds no model
for a valid file (issue #13).
"""
