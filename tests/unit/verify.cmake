# unit tests of verify and reason
