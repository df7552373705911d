"""The vidagent web app: ``python app.py [--host 127.0.0.1] [--port 7860] [--share]`` (same as ``vidagent app``)."""

if __name__ == "__main__":
    import sys

    from vidagent.cli import main

    sys.exit(main(["app", *sys.argv[1:]]))
