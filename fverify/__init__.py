import os

__version__ = "0.1.0"

# OpenCV refuses to decode images above OPENCV_IO_MAX_IMAGE_PIXELS, read once when cv2 is
# imported (so here, before any fverify module imports it). Its default, 2**30 pixels, lets
# a 2 MB JPEG of one colour decode into 3 GB in every DataLoader worker; 2**27 (134
# megapixels, 400 MB decoded) still admits the largest camera photos. A value the user set
# wins; decode errors name the variable.
MAX_IMAGE_PIXELS = 2**27
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))
