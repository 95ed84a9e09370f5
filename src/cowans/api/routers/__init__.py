"""One router per API family of the contract (see ../shared/API.md)."""
