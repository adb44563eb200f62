"""2-D stencil: five-point average of an image, nested loops."""


def blur(img):
    out = img.copy()
    rows, cols = img.shape
    for i in range(1, rows - 1):
        for j in range(1, cols - 1):
            out[i, j] = 0.2 * (
                img[i, j] + img[i - 1, j] + img[i + 1, j] + img[i, j - 1] + img[i, j + 1]
            )
    return out
