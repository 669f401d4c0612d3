"""`python -m minigen.ops` prints the derivative sheet (see minigen/ops/_sheet.py)."""
if __name__ == "__main__":
    from minigen.ops._sheet import derivative_sheet
    print(derivative_sheet())
