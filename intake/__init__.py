"""Resume intake: the text of an uploaded resume (intake.extract) and the profile parsed from it (intake.parse).

Pure library code: no routes, no storage, no logging of content.
"""
