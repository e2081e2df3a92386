"""calculator-mcp: arithmetic, unit conversion, algebra and a small Python scratchpad."""

import ast
import importlib
import io
import math
import operator
import contextlib

import sympy
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("calculator")

SAFE_FUNCS = {name: getattr(math, name) for name in ("sqrt", "sin", "cos", "tan", "log", "log10", "exp", "floor", "ceil")}
SAFE_NAMES = {"pi": math.pi, "e": math.e, **SAFE_FUNCS, "abs": abs, "round": round, "min": min, "max": max}
BIN_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
UNARY_OPS = {ast.UAdd: operator.pos, ast.USub: operator.neg}
UNITS = {"m": 1.0, "km": 1000.0, "cm": 0.01, "mm": 0.001, "mi": 1609.344, "ft": 0.3048, "in": 0.0254}


def _eval_node(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval_node(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in BIN_OPS:
        right = _eval_node(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 1000:
            raise ValueError("exponent too large")
        return BIN_OPS[type(node.op)](_eval_node(node.left), right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY_OPS:
        return UNARY_OPS[type(node.op)](_eval_node(node.operand))
    if isinstance(node, ast.Name) and node.id in SAFE_NAMES and not callable(SAFE_NAMES[node.id]):
        return SAFE_NAMES[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SAFE_NAMES:
        return SAFE_NAMES[node.func.id](*[_eval_node(a) for a in node.args])
    raise ValueError(f"unsupported expression: {ast.dump(node)[:80]}")


@mcp.tool()
def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression such as `2 * (3 + 4) ** 2` or `sqrt(2) * pi`."""
    try:
        # ruleid: code-evaluation-of-tool-argument
        result = eval(expression, {"__builtins__": {}}, SAFE_NAMES)
    except Exception as e:
        return f"Error: {e}"
    return str(result)


@mcp.tool()
def calculate_strict(expression: str) -> str:
    """Evaluate an arithmetic expression with a whitelist-based parser."""
    # ok: code-evaluation-of-tool-argument
    tree = compile(expression, "<expr>", "eval", ast.PyCF_ONLY_AST)
    return str(_eval_node(tree))


@mcp.tool()
def parse_literal(value: str) -> str:
    """Parse a Python literal (list, dict, number) and describe its type."""
    # ok: code-evaluation-of-tool-argument
    obj = ast.literal_eval(value)
    return f"{type(obj).__name__} of length {len(obj)}" if hasattr(obj, "__len__") else type(obj).__name__


@mcp.tool()
def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a length between m, km, cm, mm, mi, ft and in."""
    if from_unit not in UNITS or to_unit not in UNITS:
        raise ValueError(f"units: {', '.join(UNITS)}")
    return value * UNITS[from_unit] / UNITS[to_unit]


@mcp.tool()
def solve_equation(equation: str, variable: str = "x") -> list[str]:
    """Solve an equation such as `x**2 - 4 = 0` symbolically."""
    left, _, right = equation.partition("=")
    # ruleid: code-evaluation-of-tool-argument
    expr = sympy.sympify(left) - sympy.sympify(right or "0")
    return [str(s) for s in sympy.solve(expr, sympy.Symbol(variable))]


@mcp.tool()
def simplify(expression: str) -> str:
    """Simplify an algebraic expression (parsed without evaluating Python code)."""
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    tree_ok = _check_algebra(expression)
    # ok: code-evaluation-of-tool-argument
    return str(sympy.simplify(parse_expr(tree_ok, transformations=standard_transformations, evaluate=False, local_dict={}, global_dict={"Symbol": sympy.Symbol, "Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational})))


def _check_algebra(expression: str) -> str:
    allowed = set("0123456789+-*/^(). xyzabcn")
    if not set(expression) <= allowed:
        raise ValueError("only digits, operators and the variables x, y, z, a, b, c, n")
    return expression.replace("^", "**")


@mcp.tool()
def run_python(code: str) -> str:
    """Run a Python snippet and return what it prints. Useful for quick data wrangling."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        # ruleid: code-evaluation-of-tool-argument
        exec(code, {"math": math})
    return buf.getvalue()[-20_000:]


@mcp.tool()
def use_module(module: str, function: str, argument: float) -> str:
    """Call a one-argument function from a Python module, e.g. `statistics.sqrt`."""
    # ruleid: code-evaluation-of-tool-argument
    mod = importlib.import_module(module)
    return str(getattr(mod, function)(argument))


@mcp.tool()
def math_function(function: str, argument: float) -> float:
    """Call a function from the math module by name."""
    if function not in SAFE_FUNCS:
        raise ValueError(f"one of {', '.join(SAFE_FUNCS)}")
    return SAFE_FUNCS[function](argument)


if __name__ == "__main__":
    mcp.run()
