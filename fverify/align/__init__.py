"""Face alignment: the MTCNN detector in torch and the similarity warp to a crop template."""
