"""Reading and writing the file formats of CONTRACT.md: tracks folders and detections files."""
