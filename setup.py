"""Only the optional C extension lives here; everything else is in pyproject.toml.

`core/store/_scan.c` is the fp16 scan behind personalization at corpus scale. It is optional:
where no C compiler is present the install still succeeds and the scan falls back to torch.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("core.store._scan", ["core/store/_scan.c"], optional=True,
                             extra_compile_args=["-O3"])])
