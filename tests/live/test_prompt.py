"""test_prompt.py: the terminal asker (systrace -t) driven through a pseudo-terminal."""
from lib import main
if __name__ == "__main__":
    main()
