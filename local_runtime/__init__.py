"""Local runtime of the Share Worker: embedded AWS, provisioning and demos. Never deployed."""
