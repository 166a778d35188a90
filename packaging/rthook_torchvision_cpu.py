"""PyInstaller runtime hook, registered by generec-studio.spec only when the bundled torch is a
CPU build (its torch/version.py says `cuda = None`; packaging/cpu_runtime.sh makes such a build).
It runs before the entry script, so before anything imports torchvision.

Why: the CPU bundle pairs torch 2.13.0+cpu with PyPI's torchvision 0.28.0, a CUDA (+cu130)
build. torchvision's C ops library (_C) is linked against CUDA and cannot load beside a CPU
torch; torchvision/extension.py tolerates that, but `import torchvision` then imports
torchvision._meta_registrations, which registers fake kernels for those C ops at import and
fails with `RuntimeError: operator torchvision::nms does not exist`, so torchvision (and
open_clip, which imports it for its image transforms) cannot be imported at all.
The app uses no torchvision C op (nms, roi_align, deform_conv, the image decoders): only the
pure-Python transforms (Resize, CenterCrop, ToTensor, Normalize) through open_clip. An empty
module in place of _meta_registrations lets torchvision import; what it would have registered
(meta kernels for torch.compile and fake tensors of ops that do not exist here) is unusable
in this bundle anyway.

The check is done when building, not here: reading torch's build at start-up would mean
importing torch (seconds) on the GUI's start-up path, against the design's lazy imports."""
import sys
import types

_NAME = "torchvision._meta_registrations"
if _NAME not in sys.modules:
    _stub = types.ModuleType(_NAME, "Stub: torchvision's C ops are not available with the CPU "
                                    "torch of this bundle (packaging/rthook_torchvision_cpu.py)")
    sys.modules[_NAME] = _stub
