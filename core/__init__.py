"""(issue 17 layout)"""
